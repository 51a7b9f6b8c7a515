from .demo_plant import post_init_hook
