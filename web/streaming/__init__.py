"""How the web answers with a job: following job event logs (relay), answering with a job or its outcome
(responses), and writing an upstream's wire format from job events (wire)."""
