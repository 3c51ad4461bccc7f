"""The police and security live dashboard: a static web app that reads the API with the officer's token."""
