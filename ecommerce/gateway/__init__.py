"""The gateway in front of a layout's services: nginx, configured from the module registry and the layout."""
