"""Named queues, one per job family, so operators scale them apart (``dramatiq workers.main --queues llm``)."""

QUEUES = ("default", "llm", "files", "embeddings", "images", "audio", "evaluations", "pipelines", "extensions",
          "webhooks")
