"""Listing an organisation's repositories through GitHub's or GitLab's REST API (``repos``)."""
