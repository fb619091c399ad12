"""Online handling of mobile business: a signed-in subscriber's balance, bills, data, plan and add-ons."""
