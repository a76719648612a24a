"""What ``GET /api/config`` tells a client: public features before sign-in, the rest after."""
from __future__ import annotations

from sqlalchemy.orm import Session

from shared.config import VERSION, env, get_settings
from shared.models import User
from shared.rag import config as rag_config  # noqa: F401  (registers the file-limit defaults)
from shared.services import accounts, app_config, ldap_auth, oauth, permissions

_PUBLIC_KEYS = ("ui.enable_signup", "ui.enable_login_form", ldap_auth.ENABLE_KEY)
_UI_KEYS = (
    "ui.pending_user_overlay_title", "ui.pending_user_overlay_content", "ui.watermark",
    "ui.default_models", "ui.default_pinned_models", "ui.prompt_suggestions",
    "rag.file.max_size", "rag.file.max_count", "file.image_compression_width", "file.image_compression_height",
    "audio.tts.engine", "audio.tts.voice", "audio.tts.split_on", "audio.stt.engine", "audio.realtime.enabled",
    "audio.realtime.model", "audio.realtime.voice", "ui.visibility", "ui.prompt_suggestions_i18n",
    "code_execution.engine", "code_interpreter.engine",
)
_FEATURE_KEYS = {
    "enable_api_keys": "auth.enable_api_keys",
    "enable_password_change_form": "ui.enable_password_change_form",
    "enable_folders": "folders.enable",
    "enable_channels": "channels.enable",
    "enable_notes": "notes.enable",
    "enable_memories": "memories.enable",
    "enable_web_search": "web.search.enable",
    "enable_code_execution": "code_execution.enable",
    "enable_code_interpreter": "code_interpreter.enable",
    "enable_image_generation": "image_generation.enable",
    "enable_autocomplete_generation": "task.autocomplete.enable",
    "enable_title_generation": "task.title.enable",
    "enable_follow_up_generation": "task.follow_up.enable",
    "enable_tags_generation": "task.tags.enable",
    "enable_community_sharing": "ui.enable_community_sharing",
    "enable_message_rating": "ui.enable_message_rating",
    "enable_user_webhooks": "ui.enable_user_webhooks",
    "enable_direct_connections": "direct.enable",
    "enable_direct_integrations": "direct.integrations.enable",
}
_OFF_FEATURES = (
    "enable_version_update_check", "enable_terminal_servers", "enable_encrypted_channels", "enable_apps",
    "enable_calendar", "enable_automations", "enable_context_compaction", "enable_tool_permissions",
    "enable_web_search_confirmation", "enable_user_status",
    "enable_admin_chat_access", "enable_admin_analytics", "enable_google_drive_integration",
    "enable_onedrive_integration", "enable_subagents", "enable_pyodide_file_persistence",
    "enable_public_active_users_count", "enable_easter_eggs",
)


def client_config(session: Session, user: User | None) -> dict:
    # One read of every key this answer may need, whoever asks.
    values = app_config.get_many(session, [*_PUBLIC_KEYS, *_UI_KEYS, *_FEATURE_KEYS.values()])
    config: dict = {
        "status": True,
        "name": get_settings().name,
        "version": VERSION,
        "default_locale": "",
        "i18n": {},
        "oauth": {"providers": oauth.providers(), "auto_redirect": env("OAUTH_AUTO_REDIRECT")},
        "features": {
            "slim": False,
            "auth": True,
            "auth_trusted_header": bool(env("WEBUI_AUTH_TRUSTED_EMAIL_HEADER")),
            "enable_signup_password_confirmation": False,
            "enable_ldap": values[ldap_auth.ENABLE_KEY],
            "enable_signup": values["ui.enable_signup"],
            "enable_login_form": values["ui.enable_login_form"],
            "enable_websocket": True,
            "websocket_heartbeat_interval": 30,
        },
    }
    if user is None:
        if not accounts.has_users(session):
            config = {"onboarding": True, **config}
        return config
    config["ui"] = {
        "pending_user_overlay_title": values["ui.pending_user_overlay_title"],
        "pending_user_overlay_content": values["ui.pending_user_overlay_content"],
        "response_watermark": values["ui.watermark"],
        "default_interface_settings": {},
        "visibility": values["ui.visibility"],
    }
    if user.role not in ("admin", "user"):
        return config
    config["features"].update({name: values[key] for name, key in _FEATURE_KEYS.items()})
    config["features"].update({name: False for name in _OFF_FEATURES})
    config["features"]["enable_plugins"] = True
    config["features"]["enable_tools"] = True
    config["features"]["enable_tool_servers"] = True
    config["features"]["enable_functions"] = True
    config["features"]["enable_admin_export"] = env("ENABLE_ADMIN_EXPORT")  # the database download (/api/v1/utils)
    config["features"]["folder_max_file_count"] = None
    config.update({
        "default_models": values["ui.default_models"],
        "default_pinned_models": values["ui.default_pinned_models"],
        "default_prompt_suggestions": values["ui.prompt_suggestions"],
        "default_prompt_suggestions_i18n": values["ui.prompt_suggestions_i18n"],
        "code": {"engine": values["code_execution.engine"], "interpreter_engine": values["code_interpreter.engine"]},
        "audio": {
            "realtime": {"enabled": values["audio.realtime.enabled"], "model": values["audio.realtime.model"],
                         "voice": values["audio.realtime.voice"]},
            "tts": {"engine": values["audio.tts.engine"], "voice": values["audio.tts.voice"],
                    "split_on": values["audio.tts.split_on"]},
            "stt": {"engine": values["audio.stt.engine"]},
        },
        "file": {
            "max_size": values["rag.file.max_size"],
            "max_count": values["rag.file.max_count"],
            "image_compression": {"width": values["file.image_compression_width"],
                                  "height": values["file.image_compression_height"]},
        },
        "permissions": permissions.permissions_for(session, user),
        "google_drive": {"client_id": "", "api_key": ""},
        "onedrive": {"client_id_personal": "", "client_id_business": "", "sharepoint_url": "", "sharepoint_tenant_id": ""},
        "license_metadata": None,
    })
    return config
