"""The city simulator: drives a running SafeSphere server through its public API."""
