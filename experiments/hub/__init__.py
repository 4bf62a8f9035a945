"""Publishing a run's exported model: its model card and the upload to the Hugging Face Hub."""
