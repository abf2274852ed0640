"""sgai-guard: find ScrapeGraphAI and Tavily API keys before and after they leak."""

__version__ = "0.1.0"
