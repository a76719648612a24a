"""User-facing error texts, worded as Open WebUI words them so its web app shows familiar messages."""

EMAIL_TAKEN = (
    "Uh-oh! This email is already registered. Sign in with your existing account or choose another "
    "email to start anew."
)
INVALID_CRED = "The email or password provided is incorrect. Please check for typos and try logging in again."
INVALID_EMAIL_FORMAT = (
    "The email format you entered is invalid. Please double-check and make sure you're using a valid "
    "email address (e.g., yourname@example.com)."
)
INVALID_TRUSTED_HEADER = (
    "Your provider has not provided a trusted header. Please contact your administrator for assistance."
)
TRUSTED_USER_MISMATCH = "User mismatch. Please sign in again."
OAUTH_LOGIN_FAILED = (
    "Sign-in with your identity provider failed. Please contact your administrator for assistance."
)
INCORRECT_PASSWORD = "The password provided is incorrect. Please check for typos and try again."
INVALID_TOKEN = "Your session has expired or the token is invalid. Please sign in again."
NOT_AUTHENTICATED = "Not authenticated"
UNAUTHORIZED = "401 Unauthorized"
ACCESS_PROHIBITED = (
    "You do not have permission to access this resource. Please contact your administrator for assistance."
)
ACTION_PROHIBITED = "The requested action has been restricted as a security measure."
NOT_FOUND = "We could not find what you're looking for :/"
API_KEY_NOT_ALLOWED = "Use of API key is not enabled in the environment."
API_KEY_CREATION_NOT_ALLOWED = "API key creation is not allowed in the environment."
MALICIOUS = "Unusual activities detected, please try again in a few minutes."
DUPLICATE_CONTENT = "Duplicate content detected. Please provide unique content to proceed."
