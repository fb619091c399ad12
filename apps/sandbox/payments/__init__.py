"""The payment providers the sandbox plays: Alipay, WeChat Pay APIv3 and UnionPay."""
