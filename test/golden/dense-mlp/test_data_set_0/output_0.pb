
Bdense_Dense2J_ส>ýด>฿ฃ€>Mv>Jฟ>าดล>