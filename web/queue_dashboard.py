"""``/admin/queues``: the queue dashboard, one static page (no build step) that polls
``/api/v1/jobs/admin/queues`` as the signed-in admin (the web app's ``token``, from its localStorage or cookie)
and plots throughput and depth over time."""
from __future__ import annotations

from importlib import resources

from flask import Response

from web.blueprint import Blueprint

blp = Blueprint("queue_dashboard", __name__, description="The queue dashboard page")


@blp.route("/admin/queues", methods=["GET"])
def page():
    """The page itself holds no data: what it shows comes from the admin API with the reader's token."""
    html = resources.files("web").joinpath("static/queues.html").read_bytes()
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-cache"})
