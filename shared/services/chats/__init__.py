"""Chats: the stored chat and its messages (store, history), listing and reading them (lists, reads), a turn of
the web app (turns, rag_context), its reply (delivery) and what follows it (reply_tasks), tags and folders."""
