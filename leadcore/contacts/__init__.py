"""Contacts: the people and companies a dealership knows."""
