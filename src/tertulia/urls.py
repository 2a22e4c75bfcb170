from django.urls import include, path

from tertulia.api.urls import api
from tertulia.connectors import views as connector_views
from tertulia.connectors.bluesky import views as bluesky_views
from tertulia.live import views as live_views

urlpatterns = [
    path("api/v1/", api.urls),
    path("live/stream", live_views.stream, name="live-stream"),
    path("hooks/<slug:network>/", connector_views.receive, name="webhook"),
    # Its URL is Tertulia's atproto OAuth client id: keep it stable (oauth.METADATA_PATH).
    path("oauth/bluesky/client-metadata.json", bluesky_views.client_metadata, name="bluesky-client-metadata"),
    # Sign-in, second factors, sessions, single sign-on (allauth + tertulia.accounts; docs/security.md).
    path("accounts/", include("tertulia.accounts.urls")),
    path("", include("tertulia.web.urls")),
]

handler400 = "tertulia.web.views.errors.bad_request"
handler403 = "tertulia.web.views.errors.permission_denied"
handler404 = "tertulia.web.views.errors.page_not_found"
handler500 = "tertulia.web.views.errors.server_error"
