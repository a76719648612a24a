"""The WSGI entry point gunicorn serves (``web.wsgi:app``): the Flask API with socket.io at ``/ws/socket.io``."""
from web.app import create_app
from web.socketio_server import socket_app

app = socket_app(create_app())
