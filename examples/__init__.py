"""Example applications that perfenv provisions and measures."""
