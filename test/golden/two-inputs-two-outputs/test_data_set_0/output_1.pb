
Bdense_Dense4JyÚe?G0?