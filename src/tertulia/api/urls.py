"""The versioned REST API (django-ninja). The OpenAPI document is at /api/v1/openapi.json."""

from ninja import NinjaAPI

api = NinjaAPI(title="Tertulia API", version="1", urls_namespace="api-v1", docs_url=None)
