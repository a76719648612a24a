"""The LLM gateway: connections to Ollama and OpenAI servers, the model registry, which model a user may call and
where it runs (gateway), and clients for the jobs that call them."""
