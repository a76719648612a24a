"""SQLAlchemy tables. Importing this package registers every table on ``Base.metadata``."""
from shared.models.app_config import AppConfig
from shared.models.base import Base
from shared.models.user import ApiKey, Credential, RevokedToken, User

__all__ = ["ApiKey", "AppConfig", "Base", "Credential", "RevokedToken", "User"]
