"""The tourist's web app at ``/app``: an installable, offline-capable page over the tourist API."""
