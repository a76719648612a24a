"""The module ``dramatiq`` runs: the broker first, then every actor module."""
import workers.runtime  # noqa: F401  (sets the global broker before actors are declared)
import jobs.system  # noqa: F401
import jobs.files  # noqa: F401
import jobs.embeddings  # noqa: F401
import jobs.web  # noqa: F401
import jobs.external_knowledge  # noqa: F401
import jobs.llm  # noqa: F401
import jobs.chat_tasks  # noqa: F401
import jobs.pipelines  # noqa: F401
import jobs.images  # noqa: F401
import jobs.audio  # noqa: F401
import jobs.evaluations  # noqa: F401
import jobs.extensions  # noqa: F401
import jobs.webhooks  # noqa: F401
