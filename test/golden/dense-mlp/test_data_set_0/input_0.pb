
Bdense_Dense1_inputJ00¨>ã‚>Ü9”¾D^Õ¾h^?Î>¾£†?ŒB>3c½jÎ¤¿ë3>UÑÄ¿