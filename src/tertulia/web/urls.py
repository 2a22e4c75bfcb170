from django.contrib.auth.decorators import login_required
from django.urls import path

from tertulia.web.views import account, channels, errors, password, sections, switch, team, tokens

app_name = "web"

urlpatterns = [
    path("", sections.home, name="home"),
    path("login/", account.LoginView.as_view(), name="login"),
    path("logout/", account.logout_view, name="logout"),
    path("healthz", errors.healthz, name="healthz"),
    path("switch/organization/", switch.switch_organization, name="switch-organization"),
    path("switch/brand/", switch.switch_brand, name="switch-brand"),
    path("switch/language/", switch.switch_language, name="switch-language"),
    path("inbox/", sections.inbox, name="inbox"),
    path("inbox/activity/", sections.inbox_activity, name="inbox-activity"),
    path("publish/", sections.publish, name="publish"),
    path("listen/", sections.listen, name="listen"),
    path("crisis/", sections.crisis, name="crisis"),
    path("analytics/", sections.analytics, name="analytics"),
    path("team/", team.team, name="team"),
    path("team/members/<int:member_id>/role/", team.change_role, name="member-role"),
    path("team/members/<int:member_id>/active/", team.set_active, name="member-active"),
    path("account/password/", login_required(password.ChangePasswordView.as_view()), name="password-change"),
    path("settings/", sections.settings_page, name="settings"),
    path("settings/channels/", channels.channels, name="channels"),
    path("settings/channels/connect/", channels.connect, name="channel-connect"),
    path("settings/channels/callback/", channels.callback, name="channel-callback"),
    path("settings/channels/choose/<uuid:choice_id>/", channels.choose, name="channel-choose"),
    path("settings/tokens/", tokens.tokens, name="tokens"),
    path("settings/tokens/<int:token_id>/revoke/", tokens.revoke, name="token-revoke"),
]
