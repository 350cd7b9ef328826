"""The docs site's generated pages (read by the mkdocs hook ``ecommerce/devtools/docsite/hooks.py``): a
reference per module from the registry, every setting, the HTTP API from the OpenAPI document, the
Python facades, the decision log. Generated at build time, so they cannot drift from the code."""
