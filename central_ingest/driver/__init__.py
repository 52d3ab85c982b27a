"""The driver's case page: what a vehicle's owner (or whoever drove) sees by following the link in
a notice, or by typing the case number and the plate; in Kazakh, Russian or English, built for a
phone first. Server-rendered, no script.

``links`` (the tokens, a service the notices use) imports no web framework; the pages are
``app.install_driver``'s."""
