"""User-supplied code (Open WebUI's tools and functions), run only in worker processes: each call in a child
process of its own with a time and a memory limit (``sandbox``), which loads the module and answers over a pipe
(``runner``). Nothing here runs user code in the calling process."""
