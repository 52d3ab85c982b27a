"""The officer's touch UI on the terminal: a small web app on the loopback interface that the
car's browser opens (``erap-terminal ui``).

- ``sessions``: the signed-in officer's session (bound to his token's session), CSRF tokens;
- ``pages``: Jinja2 templates in the ``terminal`` catalog, the language switch;
- ``drafts``: what the officer typed, kept between the screens, and the ``Draft`` made of it;
- ``app``: the screens over the roadside desk (``terminal.roadside.RoadsideDesk``);
- ``server``: the desk from the configuration, its start-up duties, and uvicorn on 127.0.0.1.

Every rule of the protocol stays in the desk; this package only asks and shows.
"""
