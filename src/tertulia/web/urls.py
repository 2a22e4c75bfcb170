from django.urls import path

from tertulia.web.urls_analytics import urlpatterns as analytics_urls
from tertulia.web.urls_portal import urlpatterns as portal_urls
from tertulia.web.urls_reports import urlpatterns as reports_urls
from tertulia.web.urls_teamops import urlpatterns as teamops_urls
from tertulia.web.views import (
    account,
    channels,
    errors,
    inbox,
    listening_query,
    listening_sources,
    posts,
    sections,
    switch,
    team,
    team_access,
    tokens,
)
from tertulia.web.views import audit as audit_views
from tertulia.web.views import calendar as calendar_views
from tertulia.web.views import compose as compose_views
from tertulia.web.views import contacts as contact_views
from tertulia.web.views import crisis_alerts as crisis_alert_views
from tertulia.web.views import crisis_detection as crisis_detection_views
from tertulia.web.views import crisis_mode as crisis_mode_views
from tertulia.web.views import crisis_playbooks as crisis_playbook_views
from tertulia.web.views import governance as governance_views
from tertulia.web.views import guard as guard_views
from tertulia.web.views import inbox_settings as inbox_setup
from tertulia.web.views import invitations as invitation_views
from tertulia.web.views import link_previews as link_preview_views
from tertulia.web.views import listening as listening_views
from tertulia.web.views import media as media_views
from tertulia.web.views import moderation as moderation_views
from tertulia.web.views import offboarding as offboarding_views
from tertulia.web.views import publishing_settings as publishing_setup
from tertulia.web.views import webhooks as webhook_views

app_name = "web"

urlpatterns = [
    path("", sections.home, name="home"),
    path("login/", account.login, name="login"),
    path("logout/", account.logout_view, name="logout"),
    path("healthz", errors.healthz, name="healthz"),
    path("switch/organization/", switch.switch_organization, name="switch-organization"),
    path("switch/brand/", switch.switch_brand, name="switch-brand"),
    path("switch/language/", switch.switch_language, name="switch-language"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/list/", inbox.inbox_list, name="inbox-list"),
    path("inbox/bulk/", inbox.inbox_bulk, name="inbox-bulk"),
    path("inbox/availability/", inbox.inbox_availability, name="inbox-availability"),
    path("inbox/notifications/", inbox.notifications, name="notifications"),
    path("inbox/notifications/count/", inbox.notifications_badge, name="notifications-badge"),
    path("inbox/c/<int:conversation_id>/", inbox.conversation, name="conversation"),
    path("inbox/c/<int:conversation_id>/live/", inbox.conversation_thread, name="conversation-live"),
    path(
        "inbox/c/<int:conversation_id>/presence/", inbox.conversation_presence, name="conversation-presence"
    ),
    path("inbox/c/<int:conversation_id>/status/", inbox.conversation_status, name="conversation-status"),
    path("inbox/c/<int:conversation_id>/assign/", inbox.conversation_assign, name="conversation-assign"),
    path("inbox/c/<int:conversation_id>/tags/", inbox.conversation_tags, name="conversation-tags"),
    path("inbox/c/<int:conversation_id>/note/", inbox.conversation_note, name="conversation-note"),
    path("inbox/c/<int:conversation_id>/reply/", inbox.conversation_reply, name="conversation-reply"),
    path(
        "inbox/c/<int:conversation_id>/escalate/", inbox.conversation_escalate, name="conversation-escalate"
    ),
    path("inbox/m/<int:message_id>/retry/", inbox.message_retry, name="message-retry"),
    path("inbox/contacts/<int:contact_id>/", contact_views.contact, name="contact"),
    path("inbox/contacts/<int:contact_id>/merge/", contact_views.merge, name="contact-merge"),
    path("publish/", sections.publish, name="publish"),
    path("publish/posts/<int:post_id>/", posts.post_detail, name="post-detail"),
    path("publish/posts/<int:post_id>/cancel/", posts.post_cancel, name="post-cancel"),
    path("publish/deliveries/<int:target_id>/", posts.target_action, name="post-target"),
    path("publish/new/", compose_views.compose_new, name="post-new"),
    path("publish/check/", compose_views.compose_check, name="compose-check"),
    path("publish/link-preview/", link_preview_views.link_preview, name="link-preview"),
    path(
        "publish/link-preview/image/<str:key>/",
        link_preview_views.link_preview_image,
        name="link-preview-image",
    ),
    path("publish/posts/<int:post_id>/edit/", compose_views.compose_edit, name="post-edit"),
    path("publish/posts/<int:post_id>/review/", posts.post_review, name="post-review"),
    path("publish/posts/<int:post_id>/duplicate/", posts.post_duplicate, name="post-duplicate"),
    path("publish/posts/<int:post_id>/schedule/", posts.post_schedule, name="post-schedule"),
    path("publish/media/", media_views.media_library, name="media"),
    path("publish/media/upload/", media_views.media_upload, name="media-upload"),
    path("publish/media/<int:asset_id>/", media_views.media_describe, name="media-describe"),
    path("publish/media/<int:asset_id>/delete/", media_views.media_delete, name="media-delete"),
    path("publish/media/<int:asset_id>/file/", media_views.media_file, name="media-file"),
    path("publish/calendar/", calendar_views.calendar, name="calendar"),
    path("publish/queue/", calendar_views.queue_slots, name="queue"),
    path("publish/queue/<int:channel_id>/", calendar_views.save_queue_slots, name="queue-channel"),
    path("publish/posts/<int:post_id>/move/", calendar_views.move_post, name="post-move"),
    path("publish/posts/<int:post_id>/queue/", calendar_views.queue_post, name="post-queue"),
    path("listen/", sections.listen, name="listen"),
    path("listen/queries/new/", listening_views.query_new, name="listen-query-new"),
    path("listen/queries/check/", listening_views.query_check, name="listen-query-check"),
    path("listen/queries/<int:query_id>/", listening_query.query_page, name="listen-query"),
    path("listen/queries/<int:query_id>/edit/", listening_views.query_edit, name="listen-query-edit"),
    path("listen/queries/<int:query_id>/delete/", listening_views.query_delete, name="listen-query-delete"),
    path(
        "listen/queries/<int:query_id>/backfill/",
        listening_views.query_backfill,
        name="listen-query-backfill",
    ),
    path(
        "listen/queries/<int:query_id>/mentions.csv", listening_query.mentions_csv, name="listen-mentions-csv"
    ),
    path("listen/queries/<int:query_id>/volume.csv", listening_query.volume_csv, name="listen-volume-csv"),
    path("listen/queries/<int:query_id>/alerts/", listening_query.alert_create, name="listen-alert-create"),
    path("listen/alerts/<int:alert_id>/delete/", listening_query.alert_delete, name="listen-alert-delete"),
    path("listen/sources/", listening_sources.sources, name="listen-sources"),
    path(
        "listen/sources/<int:source_id>/active/", listening_sources.source_active, name="listen-source-active"
    ),
    path(
        "listen/sources/<int:source_id>/remove/", listening_sources.source_remove, name="listen-source-remove"
    ),
    path("crisis/", sections.crisis, name="crisis"),
    # Crisis playbooks, rehearsals and post-incident reports (docs/crisis-playbooks.md).
    path("crisis/playbooks/", crisis_playbook_views.playbook_list, name="crisis-playbooks"),
    path("crisis/playbooks/new/", crisis_playbook_views.playbook_new, name="crisis-playbook-new"),
    path("crisis/playbooks/default/", crisis_playbook_views.playbook_default, name="crisis-playbook-default"),
    path("crisis/playbooks/rehearse/", crisis_playbook_views.rehearse, name="crisis-rehearse"),
    path(
        "crisis/playbooks/<int:playbook_id>/", crisis_playbook_views.playbook_detail, name="crisis-playbook"
    ),
    path(
        "crisis/playbooks/<int:playbook_id>/edit/",
        crisis_playbook_views.playbook_edit,
        name="crisis-playbook-edit",
    ),
    path(
        "crisis/playbooks/<int:playbook_id>/delete/",
        crisis_playbook_views.playbook_delete,
        name="crisis-playbook-delete",
    ),
    path(
        "crisis/playbooks/<int:playbook_id>/statements/<int:holding_statement_id>/approve/",
        crisis_playbook_views.statement_approve,
        name="crisis-statement-approve",
    ),
    path("crisis/reports/<int:crisis_id>/", crisis_playbook_views.report_view, name="crisis-report"),
    path(
        "crisis/reports/<int:crisis_id>/edit/", crisis_playbook_views.report_edit, name="crisis-report-edit"
    ),
    path(
        "crisis/reports/<int:crisis_id>/report.md",
        crisis_playbook_views.report_download,
        name="crisis-report-download",
    ),
    # Crisis mode and the crisis room (docs/crisis-mode.md).
    path("crisis/mode/start/", crisis_mode_views.start, name="crisis-start"),
    path("crisis/mode/banner/", crisis_mode_views.crisis_banner, name="crisis-banner"),
    path("crisis/rooms/", crisis_mode_views.crisis_list, name="crisis-rooms"),
    path("crisis/rooms/<int:crisis_id>/", crisis_mode_views.crisis_room, name="crisis-room"),
    path("crisis/rooms/<int:crisis_id>/live/", crisis_mode_views.crisis_live, name="crisis-room-live"),
    path(
        "crisis/rooms/<int:crisis_id>/timeline/",
        crisis_mode_views.crisis_timeline,
        name="crisis-room-timeline",
    ),
    path("crisis/rooms/<int:crisis_id>/end/", crisis_mode_views.crisis_end, name="crisis-end"),
    path("crisis/rooms/<int:crisis_id>/roles/", crisis_mode_views.crisis_roles, name="crisis-roles"),
    path("crisis/rooms/<int:crisis_id>/notes/", crisis_mode_views.crisis_note, name="crisis-note"),
    path(
        "crisis/rooms/<int:crisis_id>/replies/<int:hold_id>/",
        crisis_mode_views.crisis_reply_decide,
        name="crisis-reply-decide",
    ),
    path(
        "crisis/rooms/<int:crisis_id>/checklist/<int:item_id>/",
        crisis_mode_views.crisis_tick,
        name="crisis-tick",
    ),
    # Surge detection settings and recent surges (docs/crisis-detection.md).
    path("crisis/detection/", crisis_detection_views.detection_settings, name="crisis-detection"),
    path(
        "crisis/detection/watches/<int:watch_id>/sensitivity/",
        crisis_detection_views.detection_sensitivity,
        name="crisis-detection-sensitivity",
    ),
    # Crisis alerts and escalation chains (docs/crisis-alerts.md).
    path("crisis/alerts/", crisis_alert_views.alert_list, name="crisis-alerts"),
    path("crisis/alerts/raise/", crisis_alert_views.alert_raise, name="crisis-alert-raise"),
    path("crisis/alerts/<int:crisis_alert_id>/", crisis_alert_views.alert_detail, name="crisis-alert"),
    path(
        "crisis/alerts/<int:crisis_alert_id>/acknowledge/",
        crisis_alert_views.alert_acknowledge,
        name="crisis-alert-acknowledge",
    ),
    path(
        "crisis/alerts/<int:crisis_alert_id>/resolve/",
        crisis_alert_views.alert_resolve,
        name="crisis-alert-resolve",
    ),
    path("crisis/alerts/ack/<str:key>/", crisis_alert_views.ack_link, name="crisis-alert-ack-link"),
    path("crisis/escalation/<int:brand_id>/", crisis_alert_views.escalation_chain, name="crisis-chain"),
    path("team/", team.team, name="team"),
    path("team/members/<int:member_id>/role/", team.change_role, name="member-role"),
    path("team/members/<int:member_id>/active/", team.set_active, name="member-active"),
    path("team/members/<int:member_id>/brands/", team_access.member_brands, name="member-brands"),
    path(
        "team/channels/<int:channel_id>/operators/", team_access.channel_operators, name="channel-operators"
    ),
    path("team/members/<int:member_id>/offboard/", offboarding_views.offboard, name="member-offboard"),
    path("team/members/<int:member_id>/offboarded/", offboarding_views.outcome, name="member-offboarded"),
    path("team/invitations/<int:invitation_id>/resend/", invitation_views.resend, name="invitation-resend"),
    path("team/invitations/<int:invitation_id>/revoke/", invitation_views.revoke, name="invitation-revoke"),
    path("team/access/", governance_views.access, name="access-review"),
    path("team/access.csv", governance_views.access_csv, name="access-review-csv"),
    path("team/coverage/", governance_views.coverage_page, name="coverage"),
    path("team/coverage/<int:channel_id>/waiver/", governance_views.waiver, name="coverage-waiver"),
    path("team/coverage/<int:channel_id>/reconnect/", governance_views.reconnect, name="channel-reconnect"),
    path("invitation/<str:key>/", invitation_views.accept, name="invitation"),
    path("account/password/", account.password_change, name="password-change"),
    path("settings/", sections.settings_page, name="settings"),
    path("settings/audit/", audit_views.audit_page, name="audit"),
    path("settings/audit/export.csv", audit_views.audit_csv, name="audit-csv"),
    path("settings/audit/verify/", audit_views.audit_verify, name="audit-verify"),
    path("settings/channels/", channels.channels, name="channels"),
    path("settings/channels/connect/", channels.connect, name="channel-connect"),
    path("settings/channels/callback/", channels.callback, name="channel-callback"),
    path("settings/channels/choose/<uuid:choice_id>/", channels.choose, name="channel-choose"),
    # The hijack guard (docs/hijack-guard.md).
    path(
        "settings/channels/<int:channel_id>/compromised/",
        guard_views.channel_compromised,
        name="channel-compromised",
    ),
    path("settings/guard/", guard_views.guard_settings, name="guard-settings"),
    path("guard/holds/", guard_views.holds, name="guard-holds"),
    path("guard/holds/<int:hold_id>/", guard_views.hold_detail, name="guard-hold"),
    path("guard/holds/<int:hold_id>/release/", guard_views.hold_release, name="guard-hold-release"),
    path("guard/holds/<int:hold_id>/reject/", guard_views.hold_reject, name="guard-hold-reject"),
    path("guard/incidents/", guard_views.incidents, name="guard-incidents"),
    path("guard/incidents/<int:incident_id>/", guard_views.incident, name="guard-incident"),
    path(
        "guard/incidents/<int:incident_id>/steps/<slug:key>/",
        guard_views.incident_step,
        name="guard-incident-step",
    ),
    path("guard/incidents/<int:incident_id>/note/", guard_views.incident_note, name="guard-incident-note"),
    path(
        "guard/incidents/<int:incident_id>/reconnected/",
        guard_views.incident_reconnected,
        name="guard-incident-reconnected",
    ),
    path("guard/incidents/<int:incident_id>/close/", guard_views.incident_close, name="guard-incident-close"),
    path("settings/tokens/", tokens.tokens, name="tokens"),
    path("settings/tokens/<int:token_id>/revoke/", tokens.revoke, name="token-revoke"),
    path("settings/webhooks/", webhook_views.webhooks, name="webhooks"),
    path("settings/webhooks/<int:endpoint_id>/", webhook_views.webhook, name="webhook"),
    path("settings/webhooks/<int:endpoint_id>/test/", webhook_views.webhook_test, name="webhook-test"),
    path("settings/webhooks/<int:endpoint_id>/rotate/", webhook_views.webhook_rotate, name="webhook-rotate"),
    path("settings/webhooks/<int:endpoint_id>/delete/", webhook_views.webhook_delete, name="webhook-delete"),
    path("settings/inbox/", inbox_setup.inbox_settings, name="inbox-settings"),
    path("settings/inbox/sla/", inbox_setup.save_sla, name="inbox-settings-sla"),
    path("settings/inbox/assignment/", inbox_setup.save_assignment, name="inbox-settings-assignment"),
    path("settings/inbox/replies/", inbox_setup.save_reply, name="inbox-reply-create"),
    path("settings/inbox/replies/<int:reply_id>/", inbox_setup.save_reply, name="inbox-reply-update"),
    path("settings/inbox/replies/<int:reply_id>/delete/", inbox_setup.delete_reply, name="inbox-reply-del"),
    path("settings/inbox/tags/<int:tag_id>/rename/", inbox_setup.rename_tag, name="inbox-tag-rename"),
    path("settings/inbox/tags/<int:tag_id>/delete/", inbox_setup.delete_tag, name="inbox-tag-delete"),
    path("settings/publishing/", publishing_setup.publishing_settings, name="publishing-settings"),
    path("publish/paused/", publishing_setup.paused_banner, name="publishing-paused"),
    path(
        "settings/publishing/workflows/<slug:kind>/",
        publishing_setup.save_workflow,
        name="publishing-workflow",
    ),
    path("settings/publishing/pause/", publishing_setup.pause_publishing, name="publishing-pause"),
    path(
        "settings/publishing/pauses/<int:pause_id>/resume/",
        publishing_setup.resume_publishing,
        name="publishing-resume",
    ),
    path("settings/moderation/", moderation_views.moderation, name="moderation"),
    path("settings/moderation/rules/", moderation_views.rule_create, name="moderation-rule-create"),
    path("settings/moderation/rules/<int:rule_id>/", moderation_views.rule_edit, name="moderation-rule"),
    path(
        "settings/moderation/rules/<int:rule_id>/toggle/",
        moderation_views.rule_toggle,
        name="moderation-rule-toggle",
    ),
    path(
        "settings/moderation/rules/<int:rule_id>/delete/",
        moderation_views.rule_delete,
        name="moderation-rule-delete",
    ),
    path(
        "settings/moderation/rules/<int:rule_id>/dry-run/",
        moderation_views.rule_dry_run,
        name="moderation-rule-dry-run",
    ),
    path(
        "settings/moderation/actions/<int:action_id>/approve/",
        moderation_views.action_approve,
        name="moderation-approve",
    ),
    path(
        "settings/moderation/actions/<int:action_id>/reject/",
        moderation_views.action_reject,
        name="moderation-reject",
    ),
    path("inbox/m/<int:message_id>/moderate/", moderation_views.message_moderate, name="message-moderate"),
]

# Each capability added since issue 9 keeps its routes in its own module (same `web:` namespace).
urlpatterns += [*analytics_urls, *teamops_urls, *portal_urls, *reports_urls]
