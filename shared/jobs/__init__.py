"""The job layer both sides share: the broker connection, queues, and sending messages by actor name."""
