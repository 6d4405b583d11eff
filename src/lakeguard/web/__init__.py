"""The browser side: the command dashboard, the field view and the reads they need."""
