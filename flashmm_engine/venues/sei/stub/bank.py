"""Accounts (number, sequence, public key) and denom balances of the stub chain."""

from __future__ import annotations

from dataclasses import dataclass, field


class InsufficientFunds(ValueError):
    pass


@dataclass(slots=True)
class Account:
    address: str
    number: int
    sequence: int = 0
    """Check-state sequence: advanced when CheckTx accepts a tx into the mempool."""
    committed_sequence: int = 0
    """What REST reports: advanced when the tx is included in a block."""
    pubkey: bytes | None = None
    balances: dict[str, int] = field(default_factory=dict)


class Bank:
    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}

    def account(self, address: str) -> Account | None:
        return self.accounts.get(address)

    def ensure(self, address: str) -> Account:
        acc = self.accounts.get(address)
        if acc is None:
            acc = Account(address, number=len(self.accounts))
            self.accounts[address] = acc
        return acc

    def balance(self, address: str, denom: str) -> int:
        acc = self.accounts.get(address)
        return acc.balances.get(denom, 0) if acc else 0

    def mint(self, address: str, denom: str, amount: int) -> None:
        acc = self.ensure(address)
        acc.balances[denom] = acc.balances.get(denom, 0) + amount

    def burn(self, address: str, denom: str, amount: int) -> None:
        have = self.balance(address, denom)
        if have < amount:
            raise InsufficientFunds(f"spendable balance {have}{denom} is smaller than {amount}{denom}")
        self.ensure(address).balances[denom] = have - amount

    def transfer(self, sender: str, recipient: str, denom: str, amount: int) -> None:
        if amount == 0:
            return
        self.burn(sender, denom, amount)
        self.mint(recipient, denom, amount)
