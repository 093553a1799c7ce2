package hipopay

import "math/big"

func big1() *big.Int { return big.NewInt(1) }
