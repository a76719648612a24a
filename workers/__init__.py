"""The worker side: broker setup and the middleware every job runs through."""
