"""Retrieval-augmented generation: text extraction, chunking, embeddings and the vector store."""
