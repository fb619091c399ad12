"""Cross-app tests and the fixtures they share."""
