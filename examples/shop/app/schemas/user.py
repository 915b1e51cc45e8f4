from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class UserBase(BaseModel):
    email: EmailStr = Field(description="Primary e-mail address, used for sign-in.")
    full_name: str = Field(min_length=1, max_length=200, description="Display name.")


class UserCreate(UserBase):
    pass


class UserUpdate(BaseModel):
    full_name: str | None = Field(None, min_length=1, max_length=200, description="Display name.")
    is_active: bool | None = Field(None, description="Set to false to deactivate the account.")


class UserRead(UserBase):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="User identifier.")
    is_active: bool = Field(description="Whether the account may place orders.")
    created_at: datetime = Field(description="When the account was created.")
    last_login_at: datetime | None = Field(None, description="Last successful sign-in.")
