"""Version 1 of the REST API: views and serializers per area (docs: /api/docs/)."""
