"""Calendar providers behind one small interface (see ``integrations.base``)."""
