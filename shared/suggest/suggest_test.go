package suggest

import (
	"slices"
	"testing"
)

func TestClosest(t *testing.T) {
	names := []string{"orders", "order_items", "customers", "payments"}
	if got := Closest("ordrs", names, 2); !slices.Equal(got, []string{"orders"}) {
		t.Errorf("got %v", got)
	}
	if got := Closest("CUSTOMER", names, 1); !slices.Equal(got, []string{"customers"}) {
		t.Errorf("case should not matter: %v", got)
	}
	if got := Closest("zzz", names, 3); len(got) != 0 {
		t.Errorf("nothing is close: %v", got)
	}
}
