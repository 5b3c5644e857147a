
Bdense_Dense3Jï=«¿r»«?£Ä¶>lef>