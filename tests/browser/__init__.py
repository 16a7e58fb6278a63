"""Tests over the built book in headless Chromium (marker ``browser``; run after ``make book``)."""
