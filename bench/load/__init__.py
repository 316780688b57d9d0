"""Many users at once: visitors through gunicorn (locust), bulk roster imports, password-reset timing."""
