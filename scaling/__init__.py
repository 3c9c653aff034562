"""What several Rasa instances share so that they behave as one (issue 20's topology): Rasa plug-ins that
Rasa loads from endpoints.yml, such as the lock store."""
