"""``ecommerce demo``: a one-minute guided tour of the whole system over real HTTP.

It is a *client* of the app (standard-library HTTP only, no import of any module), so what it shows is
exactly what an API consumer gets: register -> browse -> search -> cart -> checkout -> pay ->
notifications -> recommendations, each call printed with a one-line answer.
"""
