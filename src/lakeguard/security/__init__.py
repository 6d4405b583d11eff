"""Security forces: guards' certificates, police–security joint stations, joint tasks, training."""
