"""Sensor observations in: HTTP batches and MQTT, validated, de-duplicated, dead letters kept."""
