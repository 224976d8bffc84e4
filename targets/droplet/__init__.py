"""The droplet target: one DigitalOcean droplet running every service as a Docker container."""
