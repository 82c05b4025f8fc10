"""The institution's home page, help, language and error pages."""
