"""SQLAlchemy tables. Importing this package registers every table on ``Base.metadata``."""
from shared.models.app_config import AppConfig
from shared.models.base import Base
from shared.models.job import Job
from shared.models.user import ApiKey, Credential, RevokedToken, User

__all__ = ["ApiKey", "AppConfig", "Base", "Credential", "Job", "RevokedToken", "User"]
from shared.models.chunk import Chunk  # noqa: E402,F401
from shared.models.file import File  # noqa: E402,F401
from shared.models.knowledge import Knowledge, KnowledgeDirectory, KnowledgeFile  # noqa: E402,F401
from shared.models.memory import Memory  # noqa: E402,F401
from shared.models.chat import Chat, ChatTag, Folder, SharedChat, Tag  # noqa: E402,F401
from shared.models.feedback import Feedback  # noqa: E402,F401
from shared.models.workspace import Function, Prompt, Skill, Tool, Version, WorkspaceModel  # noqa: E402,F401
from shared.models.group import Group, GroupMember  # noqa: E402,F401
from shared.models.access_grant import AccessGrant  # noqa: E402,F401
from shared.models.note import Note, PinnedNote  # noqa: E402,F401
from shared.models.webhook import Webhook, WebhookDelivery  # noqa: E402,F401
