"""How Tawjih reads French and Darija: register detection and (later) normalisation."""
