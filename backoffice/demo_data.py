"""The demo catalogue's shape: a three-level category tree, the demo accounts and sellers."""

CATEGORY_TREE: dict[str, dict[str, list[str]]] = {
    "Electronics": {
        "Phones": ["Smartphones", "Feature Phones", "Phone Cases", "Chargers"],
        "Computers": ["Laptops", "Desktops", "Monitors", "Keyboards"],
        "Audio": ["Headphones", "Speakers", "Microphones", "Turntables"],
        "Cameras": ["Mirrorless Cameras", "Action Cameras", "Lenses", "Tripods"],
    },
    "Home & Kitchen": {
        "Cookware": ["Frying Pans", "Saucepans", "Dutch Ovens", "Baking Trays"],
        "Small Appliances": ["Coffee Machines", "Kettles", "Toasters", "Blenders"],
        "Furniture": ["Sofas", "Desks", "Office Chairs", "Bookcases"],
        "Bedding": ["Duvets", "Pillows", "Bed Sheets", "Blankets"],
    },
    "Fashion": {
        "Women's Clothing": ["Dresses", "Jeans", "Knitwear", "Coats"],
        "Men's Clothing": ["Shirts", "Trousers", "Jackets", "Hoodies"],
        "Shoes": ["Sneakers", "Boots", "Sandals", "Running Shoes"],
        "Accessories": ["Bags", "Watches", "Sunglasses", "Belts"],
    },
    "Sports & Outdoors": {
        "Fitness": ["Yoga Mats", "Dumbbells", "Resistance Bands", "Exercise Bikes"],
        "Cycling": ["Road Bikes", "Bike Helmets", "Bike Lights", "Cycling Jerseys"],
        "Camping": ["Tents", "Sleeping Bags", "Camping Stoves", "Backpacks"],
        "Water Sports": ["Swimwear", "Goggles", "Paddle Boards", "Wetsuits"],
    },
    "Beauty & Health": {
        "Skincare": ["Moisturisers", "Cleansers", "Serums", "Sunscreen"],
        "Hair Care": ["Shampoo", "Conditioner", "Hair Dryers", "Hair Straighteners"],
        "Fragrance": ["Eau de Parfum", "Eau de Toilette", "Body Mists", "Gift Sets"],
        "Wellness": ["Vitamins", "Massage Guns", "Scales", "Sleep Aids"],
    },
    "Toys & Games": {
        "Building Toys": ["Construction Sets", "Marble Runs", "Magnetic Tiles", "Wooden Blocks"],
        "Board Games": ["Strategy Games", "Family Games", "Party Games", "Puzzles"],
        "Outdoor Play": ["Scooters", "Trampolines", "Water Guns", "Kites"],
        "Dolls & Figures": ["Dolls", "Action Figures", "Plush Toys", "Dollhouses"],
    },
    "Books": {
        "Fiction": ["Crime", "Science Fiction", "Romance", "Literary Fiction"],
        "Non-fiction": ["History", "Biography", "Science", "Business"],
        "Children's Books": ["Picture Books", "Early Readers", "Young Adult", "Activity Books"],
        "Cookbooks": ["Baking", "Vegetarian", "World Cuisine", "Quick Meals"],
    },
    "Grocery": {
        "Drinks": ["Coffee", "Tea", "Juice", "Sparkling Water"],
        "Pantry": ["Pasta", "Rice", "Olive Oil", "Spices"],
        "Snacks": ["Chocolate", "Crisps", "Nuts", "Biscuits"],
        "Breakfast": ["Cereal", "Granola", "Jam", "Honey"],
    },
    "Garden & DIY": {
        "Power Tools": ["Drills", "Saws", "Sanders", "Impact Drivers"],
        "Hand Tools": ["Screwdrivers", "Hammers", "Spanners", "Tool Boxes"],
        "Gardening": ["Plant Pots", "Garden Hoses", "Pruners", "Lawn Mowers"],
        "Lighting": ["Bulbs", "Outdoor Lights", "Desk Lamps", "Smart Lighting"],
    },
    "Pet Supplies": {
        "Dogs": ["Dog Food", "Dog Beds", "Leads", "Dog Toys"],
        "Cats": ["Cat Food", "Scratching Posts", "Cat Litter", "Cat Toys"],
        "Fish": ["Aquariums", "Filters", "Fish Food", "Decorations"],
        "Small Animals": ["Cages", "Bedding", "Small Animal Food", "Hutches"],
    },
    "Baby": {
        "Nursery": ["Cots", "Baby Monitors", "Changing Tables", "Night Lights"],
        "Feeding": ["Bottles", "High Chairs", "Bibs", "Breast Pumps"],
        "Travel": ["Prams", "Car Seats", "Baby Carriers", "Travel Cots"],
        "Baby Clothing": ["Bodysuits", "Sleepsuits", "Baby Shoes", "Baby Hats"],
    },
    "Automotive": {
        "Car Care": ["Car Shampoo", "Polish", "Microfibre Cloths", "Pressure Washers"],
        "Car Electronics": ["Dash Cams", "Car Chargers", "Phone Mounts", "Sat Navs"],
        "Tyres & Wheels": ["Tyre Inflators", "Wheel Locks", "Snow Chains", "Tyre Gauges"],
        "Tools & Equipment": ["Jump Starters", "Jacks", "Tow Ropes", "Work Lights"],
    },
}

STAFF = {"email": "admin@example.com", "password": "shop-admin-demo", "full_name": "Ada Admin"}

BUYERS = [
    {"email": "buyer1@example.com", "password": "shop-buyer-demo", "full_name": "Bea Buyer"},
    {"email": "buyer2@example.com", "password": "shop-buyer-demo", "full_name": "Carl Customer"},
    {"email": "buyer3@example.com", "password": "shop-buyer-demo", "full_name": "Dana Shopper", "is_business": True},
]

SELLERS = [
    {
        "email": "seller1@example.com",
        "store_name": "Northwind Electronics",
        "description": "Gadgets, audio and computers, shipped from Hamburg.",
    },
    {
        "email": "seller2@example.com",
        "store_name": "Casa Bella Home",
        "description": "Kitchen and home essentials with a 60-day return policy.",
    },
    {
        "email": "seller3@example.com",
        "store_name": "Trailhead Outfitters",
        "description": "Outdoor and fitness gear tested by our team.",
    },
    {
        "email": "seller4@example.com",
        "store_name": "Little Acorn Toys",
        "description": "Wooden toys, games and books for curious kids.",
    },
    {
        "email": "seller5@example.com",
        "store_name": "Pantry & Co",
        "description": "Independent coffee roasters and fine groceries.",
    },
]
SELLER_PASSWORD = "shop-seller-demo"  # noqa: S105 (demo data, printed by seed_demo)

# Demo orders (seed_demo, when there are products): placed through the real checkout with sandbox
# tokens, then moved along so the order pages and the seller site show every state. Each is
# (buyer email, sub-orders' final status, how many lines, each from another seller where possible).
DEMO_ORDERS = [
    ("buyer1@example.com", "delivered", 2),
    ("buyer1@example.com", "shipped", 1),
    ("buyer1@example.com", "processing", 2),
    ("buyer1@example.com", "confirmed", 1),
    ("buyer1@example.com", "cancelled", 1),
    ("buyer2@example.com", "delivered", 1),
    ("buyer2@example.com", "confirmed", 3),
]
DEMO_ADDRESS = {"full_name": "", "line1": "1 Market Street", "city": "Berlin", "postal_code": "10115", "country": "DE"}
